// The pure-JS SHA-1 as its own Espruino module, for a board whose firmware has no
// require("crypto"): createClient({ ..., sha1: require("aliyun-iot-http-sha1").sha1 }).
export { sha1 } from "../../src/hash/sha1";
