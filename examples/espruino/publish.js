// Publishes one reading to the Alibaba Cloud IoT Platform over HTTPS and prints its messageId.
//
// The client comes from the board's Storage: upload it there once (see the README's Espruino
// section), fill in `config` below, then send this file to the board:
//
//   npx espruino -p <port> publish.js
//
// It runs as it arrives and prints `sent <messageId> <payload>`, or `not sent <code> <message>`.
// For an app that runs at every start and sleeps between readings, see deep-sleep.js.

var config = {
  productKey: "a1xxxx",
  deviceName: "dev1",
  deviceSecret: "", // the device's secret: a filled-in copy of this file is a credential
  region: "cn-shanghai", // the public instance of this region, or:
  endpoint: "", // an instance's own https:// URL (overrides region)
  topic: "", // default /<productKey>/<deviceName>/user/update
  ssid: "", // Wi-Fi to join; empty: the board is online already
  password: "",
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

// A client, one publish, and what came of it. (The timeout is 20 s: a TLS handshake takes
// seconds on a small board.)
function publish() {
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
  });
}

online(function (err) {
  if (err) print("no network: " + err);
  else publish();
});
