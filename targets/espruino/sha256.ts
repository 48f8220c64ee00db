// The pure-JS SHA-256 as its own Espruino module (the client bundle does not grow for the
// boards that do not use it), for signing with hmacsha256 where the firmware's
// require("crypto") has no SHA256: require("aliyun-iot-http-sha256").sha256.
export { sha256 } from "../../src/hash/sha256";
