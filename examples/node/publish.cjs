// Publishes one message (CommonJS).
//
//   node publish.cjs
//
// With ALIYUN_PRODUCT_KEY, ALIYUN_DEVICE_NAME and ALIYUN_DEVICE_SECRET set it publishes to the
// real service (ALIYUN_REGION or ALIYUN_ENDPOINT, and ALIYUN_TOPIC, optional); without them, to
// a local emulator it starts itself.
const { createClient } = require('aliyun-iot-http');
const { startEmulator } = require('aliyun-iot-http/emulator');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

async function main() {
  const env = process.env;
  // The token file goes to a folder of this run only. An application leaves `dir` out (the
  // token is then kept in ~/.aliyun-iot-http and reused across runs) or names its own folder.
  const dir = mkdtempSync(join(tmpdir(), 'aliyun-iot-http-example-'));
  let emu;
  let options;
  if (env.ALIYUN_PRODUCT_KEY && env.ALIYUN_DEVICE_NAME && env.ALIYUN_DEVICE_SECRET) {
    options = {
      productKey: env.ALIYUN_PRODUCT_KEY,
      deviceName: env.ALIYUN_DEVICE_NAME,
      deviceSecret: env.ALIYUN_DEVICE_SECRET,
      region: env.ALIYUN_REGION, // default cn-shanghai
      endpoint: env.ALIYUN_ENDPOINT, // an enterprise instance's https:// URL
      dir,
    };
  } else {
    const device = { productKey: 'a1Example', deviceName: 'example-device', deviceSecret: 'example-secret' };
    emu = await startEmulator({ devices: [device] });
    options = { ...device, endpoint: emu.url, ca: emu.ca, dir };
  }
  const topic = env.ALIYUN_TOPIC || `/${options.productKey}/${options.deviceName}/user/update`;
  const client = createClient(options);
  try {
    const { messageId } = await client.publish(topic, JSON.stringify({ from: 'publish.cjs', at: Date.now() }));
    console.log(`published to ${topic}: messageId ${messageId}`);
    if (emu) {
      const m = emu.messages[emu.messages.length - 1];
      console.log(`the emulator received ${m.body} on ${m.topic}: messageId ${m.messageId}`);
    }
  } finally {
    client.close();
    if (emu) await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e.code ? `${e.code}: ${e.message}` : e.message);
  process.exitCode = 1;
});
