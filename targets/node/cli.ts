import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, NodeClientOptions } from './index';
import { startEmulator, Emulator, EmulatorDevice } from './emulator';

const USAGE = `Usage:
  aliyun-iot-http demo                 run a device through the emulator, or through the real
                                       service when ALIYUN_PRODUCT_KEY, ALIYUN_DEVICE_NAME and
                                       ALIYUN_DEVICE_SECRET are set (ALIYUN_REGION or
                                       ALIYUN_ENDPOINT, ALIYUN_TOPIC optional)
  aliyun-iot-http emulator [file]      serve the emulator on https://localhost:8443 with the devices of a
                                       JSON file ([{productKey, deviceName, deviceSecret}]);
                                       PORT sets the port; its CA is written to ./emulator-ca.pem`;

/** Messages and requests the command-line emulator keeps (it prints nothing of them yet). */
const KEEP = 100;

function step(text: string) {
  console.log('- ' + text);
}

async function demo() {
  const env = process.env;
  const real = !!(env.ALIYUN_PRODUCT_KEY && env.ALIYUN_DEVICE_NAME && env.ALIYUN_DEVICE_SECRET);
  const dir = mkdtempSync(join(tmpdir(), 'aliyun-iot-http-demo-'));
  let emu: Emulator | undefined;
  let options: NodeClientOptions;
  if (real) {
    options = {
      productKey: env.ALIYUN_PRODUCT_KEY as string,
      deviceName: env.ALIYUN_DEVICE_NAME as string,
      deviceSecret: env.ALIYUN_DEVICE_SECRET as string,
      region: env.ALIYUN_REGION,
      endpoint: env.ALIYUN_ENDPOINT,
      dir,
    };
    console.log(`Real service: ${options.endpoint || 'region ' + (options.region || 'cn-shanghai')}, device ${options.productKey}/${options.deviceName}`);
  } else {
    const device: EmulatorDevice = { productKey: 'a1DemoProduct', deviceName: 'demo-device', deviceSecret: 'demo-secret-not-real' };
    emu = await startEmulator({ devices: [device] });
    options = { ...device, endpoint: emu.url, ca: emu.ca, dir, backoff: 200 };
    console.log(`Emulator at ${emu.url} (set ALIYUN_PRODUCT_KEY, ALIYUN_DEVICE_NAME, ALIYUN_DEVICE_SECRET for the real service)`);
  }
  const topic = env.ALIYUN_TOPIC || `/${options.productKey}/${options.deviceName}/user/update`;
  const auths = () => (emu ? ` (/auth calls so far: ${emu.authCount})` : '');
  const first = createClient(options);
  let second = first;
  try {
    const token = await first.auth();
    second = createClient(options);
    step(`authenticated; token of ${token.length} characters kept in ${dir}${auths()}`);
    let r = await second.publish(topic, 'hello from a second client instance');
    step(`a new client instance reused the stored token and published text: messageId ${r.messageId}${auths()}`);
    r = await second.publish(topic, JSON.stringify({ temperature: 23.5, unit: '℃', at: Date.now() }));
    step(`JSON published: messageId ${r.messageId}`);
    r = await second.publish(topic, new Uint8Array([0, 1, 2, 0xfe, 0xff]));
    step(`5 binary bytes published: messageId ${r.messageId}`);
    if (emu) {
      emu.expireTokens();
      r = await second.publish(topic, 'after the token expired');
      step(`the service expired the token (20001); the client authenticated again and resent: messageId ${r.messageId}${auths()}`);
      emu.throttleNext(1, 'topic');
      const t0 = Date.now();
      r = await second.publish(topic, 'throttled once');
      step(`throttled (40000); retried after ${Date.now() - t0} ms: messageId ${r.messageId}`);
      const ids = emu.messages.map((m) => m.messageId);
      step(`the emulator recorded ${emu.messages.length} messages, each once: ${new Set(ids).size === ids.length}`);
    }
    console.log('Done.');
  } finally {
    first.close();
    second.close();
    if (emu) await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function serve(file?: string) {
  // bounded: the newest KEEP messages and requests, and a few tokens per device
  const emu = await startEmulator({ devicesFile: file, port: +(process.env.PORT || 8443), keep: KEEP });
  writeFileSync('emulator-ca.pem', emu.ca);
  console.log(`Emulator at ${emu.url}; trust ./emulator-ca.pem (option ca). Ctrl-C stops it.`);
}

const [command = 'demo', arg] = process.argv.slice(2);
const run = command === 'demo' ? demo() : command === 'emulator' ? serve(arg) : Promise.reject(new Error(USAGE));
run.catch((e: Error & { code?: unknown }) => {
  console.error(e.code ? `${e.code}: ${e.message}` : e.message);
  process.exitCode = 1;
});
