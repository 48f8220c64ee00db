// Takes a reading every `config.interval` seconds and sends it to the Alibaba Cloud IoT
// Platform over HTTPS through a queue in Storage: readings taken while the network or the
// service is down are kept, across restarts too, and go out in order once it is back.
//
// The client and the queue come from the board's Storage: upload both there once (see the
// README's Espruino section), fill in `config` below, send this file to the board and save it:
//
//   npx espruino -p <port> queue.js -e "save()"
//
// save() keeps the code in flash and calls onInit(), at once and at every start. On a board of
// 5,100 variables (a Pico), send it to flash instead, where Espruino reads its functions from:
// --config SAVE_ON_SEND=1 in place of -e "save()" (see the README's "RAM on Espruino"). It prints
// `queued <payload>` for each reading and `sent <messageId> <topic>` for each one the service
// accepted. To stop it, connect and type reset(true): that forgets the saved code; the modules,
// the token and the queue's files ("aiq...") stay in Storage.

var config = {
  productKey: "a1xxxx",
  deviceName: "dev1",
  deviceSecret: "", // the device's secret: a filled-in copy of this file is a credential
  region: "cn-shanghai", // the public instance of this region, or:
  endpoint: "", // an instance's own https:// URL (overrides region)
  topic: "", // default /<productKey>/<deviceName>/user/update
  ssid: "", // Wi-Fi to join; empty: the board is online already
  password: "",
  interval: 60, // seconds between readings
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

var taken = 0;

/** The reading to send: replace with your sensor's. n counts the readings since this start. */
function reading() {
  return { n: ++taken, temperature: Math.round(E.getTemperature() * 10) / 10 };
}

// The client, and the queue over it with a report of every message that leaves it (delivered,
// or dropped and why); then a reading now and every config.interval seconds. A reading the
// queue refuses (a bad payload, or Storage cannot write) is printed as refused. (The client's
// timeout is 20 s: a TLS handshake takes seconds on a small board.)
function start() {
  var productKey = config.productKey, deviceName = config.deviceName;
  var topic = config.topic || "/" + productKey + "/" + deviceName + "/user/update";
  var client = require("aliyun-iot-http").createClient({
    productKey: productKey,
    deviceName: deviceName,
    deviceSecret: config.deviceSecret,
    region: config.region || undefined,
    endpoint: config.endpoint || undefined,
    timeout: 20000,
  });
  var q = require("aliyun-iot-http-queue").queue(client, {
    report: function (err, m) {
      if (err) print("dropped " + err.code + " " + m.topic);
      else print("sent " + m.messageId + " " + m.topic);
    },
  });
  var waiting = q.status().messages;
  if (waiting) print(waiting + " readings kept from before");
  function sample() {
    var payload = JSON.stringify(reading());
    var kept = q.publish(topic, payload, function (err) {
      if (!kept) print("refused " + err.code + " " + payload);
    });
    if (kept) print("queued " + payload);
  }
  sample();
  setInterval(sample, config.interval * 1000);
}

function onInit() {
  online(function (err) {
    if (err) print("no network yet (" + err + "): readings are kept until it is back");
    start();
  });
}
