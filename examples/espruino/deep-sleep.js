// Wakes, publishes one reading to the Alibaba Cloud IoT Platform over HTTPS, and sleeps; again
// and again. The token stays in Storage (the file "aliyun.token"), so only the first wake calls
// /auth: later ones publish at once, until the token nears its expiry (with the clock set) or
// the service refuses it (then the client authenticates again and resends).
//
// The client comes from the board's Storage: upload it there once (see the README's Espruino
// section), fill in `config` below, send this file to the board and save it:
//
//   npx espruino -p <port> deep-sleep.js -e "save()"
//
// save() keeps the code in flash and calls onInit(), at once and at every start. (Or send the
// file "to Flash", with the Web IDE or with --config SAVE_ON_SEND=1: Espruino then runs it at
// every start, and onInit() after it.) To stop it, connect while it is awake and type
// reset(true): that forgets the saved code; the modules and the token stay in Storage.
//
// How it sleeps, by board:
// - ESP32: ESP32.deepSleep() turns the chip off; the timer restarts it as if powered on, RAM
//   lost, and Espruino loads the saved code and calls onInit() again.
// - STM32 boards (Pico, Espruino WiFi): setDeepSleep(1) lets Espruino enter Stop mode whenever
//   it is idle, keeping RAM; the timeout wakes it. It does not sleep while USB is connected, and
//   receives nothing on serial ports while asleep (so wake() turns it off while it works).
// - Espruino's ESP8266 firmware has no TLS, so an ESP8266 serves here as the Wi-Fi module of
//   a Pico (see online()); ESP8266.deepSleep() does not apply.
// - Elsewhere (Espruino's Linux build): a plain timeout.

var config = {
  productKey: "a1xxxx",
  deviceName: "dev1",
  deviceSecret: "", // the device's secret: a filled-in copy of this file is a credential
  region: "cn-shanghai", // the public instance of this region, or:
  endpoint: "", // an instance's own https:// URL (overrides region)
  topic: "", // default /<productKey>/<deviceName>/user/update
  ssid: "", // Wi-Fi to join; empty: the board is online already
  password: "",
  sleep: 600, // seconds between wakes; at most 2147 on an ESP32 (32-bit microseconds)
};

// Joins the Wi-Fi network named in config, then calls cb(err); without an ssid (Ethernet, a
// network set up elsewhere, Espruino's Linux build) at once. ESP32 and Espruino WiFi have the
// Wifi module built in. A Pico with an ESP8266 (AT firmware) on Serial2 replaces the line with
// require("Wifi") by these (the module comes from espruino.com):
//   Serial2.setup(115200, { rx: A3, tx: A2 });
//   var wifi = require("ESP8266WiFi_0v25").connect(Serial2, function (err) {
//     if (err) return cb(err);
//     wifi.connect(config.ssid, config.password, cb);
//   });
// (Comments stay outside functions here: a function's text, comments included, takes RAM.)
function online(cb) {
  if (!config.ssid) return cb();
  require("Wifi").connect(config.ssid, { password: config.password }, cb);
}

/** The reading to send: replace with your sensor's. */
function reading() {
  return { temperature: Math.round(E.getTemperature() * 10) / 10 };
}

// Sleeps config.sleep seconds: on an ESP32 the chip turns off and wakes as a restart (onInit()
// again); on STM32 boards Espruino enters Stop mode while idle until the timeout; elsewhere the
// timeout alone.
function sleep() {
  print("sleeping " + config.sleep + " s");
  if (typeof ESP32 != "undefined") return ESP32.deepSleep(config.sleep * 1000000);
  if (typeof setDeepSleep == "function") setDeepSleep(1);
  setTimeout(wake, config.sleep * 1000);
}

// Awake: no Stop mode while it works (a serial Wi-Fi module and the network need the clocks).
// A new client at each wake, as after a restart: it reads the token from Storage. (The timeout
// is 20 s: a TLS handshake takes seconds on a small board.)
function wake() {
  if (typeof setDeepSleep == "function") setDeepSleep(0);
  online(function (err) {
    if (err) {
      print("no network: " + err);
      return sleep();
    }
    var productKey = config.productKey, deviceName = config.deviceName;
    var client = require("aliyun-iot-http").createClient({
      productKey: productKey,
      deviceName: deviceName,
      deviceSecret: config.deviceSecret,
      region: config.region || undefined,
      endpoint: config.endpoint || undefined,
      timeout: 20000,
    });
    var topic = config.topic || "/" + productKey + "/" + deviceName + "/user/update";
    var payload = JSON.stringify(reading());
    client.publish(topic, payload, function (err, r) {
      if (err) print("not sent " + err.code + " " + err.message);
      else print("sent " + r.messageId + " " + payload);
      sleep();
    });
  });
}

function onInit() {
  wake();
}
