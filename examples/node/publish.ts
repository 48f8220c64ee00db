// Publishes one message (TypeScript, with @types/node).
//
//   npx tsc --module node16 --target es2022 --strict publish.ts && node publish.js
//
// With ALIYUN_PRODUCT_KEY, ALIYUN_DEVICE_NAME and ALIYUN_DEVICE_SECRET set it publishes to the
// real service (ALIYUN_REGION or ALIYUN_ENDPOINT, and ALIYUN_TOPIC, optional); without them, to
// a local emulator it starts itself.
import { createClient } from 'aliyun-iot-http';
import type { ClientError, NodeClientOptions, PublishResult } from 'aliyun-iot-http';
import { startEmulator } from 'aliyun-iot-http/emulator';
import type { Emulator, EmulatorDevice } from 'aliyun-iot-http/emulator';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function main(): Promise<void> {
  const env = process.env;
  // The token file goes to a folder of this run only. An application leaves `dir` out (the
  // token is then kept in ~/.aliyun-iot-http and reused across runs) or names its own folder.
  const dir = mkdtempSync(join(tmpdir(), 'aliyun-iot-http-example-'));
  let emu: Emulator | undefined;
  let options: NodeClientOptions;
  if (env.ALIYUN_PRODUCT_KEY && env.ALIYUN_DEVICE_NAME && env.ALIYUN_DEVICE_SECRET) {
    options = {
      productKey: env.ALIYUN_PRODUCT_KEY,
      deviceName: env.ALIYUN_DEVICE_NAME,
      deviceSecret: env.ALIYUN_DEVICE_SECRET,
      region: env.ALIYUN_REGION, // default cn-shanghai
      endpoint: env.ALIYUN_ENDPOINT, // an enterprise instance's https:// URL
      signMethod: 'hmacsha256',
      dir,
    };
  } else {
    const device: EmulatorDevice = { productKey: 'a1Example', deviceName: 'example-device', deviceSecret: 'example-secret' };
    emu = await startEmulator({ devices: [device] });
    options = { ...device, endpoint: emu.url, ca: emu.ca, signMethod: 'hmacsha256', dir };
  }
  const topic = env.ALIYUN_TOPIC || `/${options.productKey}/${options.deviceName}/user/update`;
  const client = createClient(options);
  try {
    const result: PublishResult = await client.publish(topic, JSON.stringify({ from: 'publish.ts', at: Date.now() }));
    console.log(`published to ${topic}: messageId ${result.messageId}`);
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

main().catch((e: ClientError) => {
  console.error(e.code ? `${e.code}: ${e.message}` : e.message);
  process.exitCode = 1;
});
