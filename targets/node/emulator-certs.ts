/**
 * TLS material for the emulator: certificates made for one start (generateCertificates), and
 * the bundled test certificates the library's loopback emulator uses by default.
 *
 * THE BUNDLED KEYS ARE PUBLIC: they are committed to this repository and must only ever be
 * used for loopback testing (localhost, 127.0.0.1, ::1). Never trust CA_CERT outside tests;
 * an emulator that a board on the network reaches makes its own (the command line always does).
 *
 * RSA 2048 throughout (an RSA server key so that plain RSA key exchange works for boards that
 * support nothing else), valid 20 years. Regenerate with:
 *
 *   openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 7300 -keyout ca.key -out ca.pem \
 *     -subj "/CN=aliyun-iot-http test CA" \
 *     -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
 *   openssl req -newkey rsa:2048 -nodes -sha256 -keyout server.key -out server.csr -subj "/CN=localhost"
 *   printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
 *     "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" > server.ext
 *   openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days 7300 \
 *     -extfile server.ext -out server.pem
 *
 * then paste ca.pem, server.pem and server.key below.
 */
import { createHash, generateKeyPair, randomBytes, sign, KeyObject } from 'crypto';
import { isIP } from 'net';

/** A CA and a server certificate it signed, made by {@link generateCertificates}. */
export interface GeneratedCertificates {
  /** PEM of the CA certificate: what a client or board must trust. */
  ca: string;
  /** PEM of the server certificate. */
  cert: string;
  /** PEM (PKCS #8) of the server's private key. The CA's key is not kept anywhere. */
  key: string;
  /** The DNS names and IP addresses the server certificate covers, in order. */
  names: string[];
}

/** The names every emulator certificate covers. */
export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * Why a string cannot go into a certificate's subjectAltName, or undefined when it can: an IPv4
 * or IPv6 address (without a zone), or a DNS name of letters, digits and hyphens (IDNs in their
 * xn-- form), at most 253 characters.
 */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `${typeof name}: a name must be a string`;
  if (name === '') return 'an empty name';
  if (name.indexOf('%') >= 0 && isIP(name.split('%')[0])) return `${JSON.stringify(name)}: an address with a zone cannot be in a certificate`;
  if (isIP(name) && name.indexOf('%') < 0) return undefined;
  const host = name.replace(/\.$/, '');
  if (host.length > 253 || !host.split('.').every((l) => LABEL.test(l))) return `${JSON.stringify(name)} is neither an IP address nor a host name (letters, digits, hyphens and dots)`;
  return undefined;
}

// DER, as much of it as a certificate needs
function der(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const head = n < 0x80 ? [tag, n] : n < 0x100 ? [tag, 0x81, n] : n < 0x10000 ? [tag, 0x82, n >> 8, n & 255] : [tag, 0x83, n >> 16, (n >> 8) & 255, n & 255];
  return Buffer.concat([Buffer.from(head), body]);
}
const seq = (...parts: Buffer[]) => der(0x30, ...parts);
const set = (...parts: Buffer[]) => der(0x31, ...parts);
const octets = (b: Buffer) => der(0x04, b);
const bits = (b: Buffer, unused = 0) => der(0x03, Buffer.from([unused]), b);
const TRUE = Buffer.from([0x01, 0x01, 0xff]);
const NULL = Buffer.from([0x05, 0x00]);

/** A non-negative INTEGER from big-endian bytes. */
function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return der(0x02, v[0] & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const n = dotted.split('.').map(Number);
  const out = [n[0] * 40 + n[1]];
  n.slice(2).forEach((v) => {
    const b = [v & 0x7f];
    while ((v = Math.floor(v / 128)) > 0) b.unshift((v & 0x7f) | 0x80);
    out.push(...b);
  });
  return der(0x06, Buffer.from(out));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280, 4.1.2.5). */
function time(t: number): Buffer {
  const s = new Date(Math.floor(t / 1000) * 1000).toISOString().replace(/[-:T]|\.000/g, '');
  return s.slice(0, 4) < '2050' ? der(0x17, Buffer.from(s.slice(2))) : der(0x18, Buffer.from(s));
}

const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), der(0x0c, Buffer.from(cn, 'utf8')))));
const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [TRUE] : []), octets(value));
const SHA256_RSA = seq(oid('1.2.840.113549.1.1.11'), NULL);

/** An element of DER at `at`: where its content starts and where it ends. */
function element(b: Buffer, at: number): { start: number; end: number } {
  let len = b[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const count = len & 0x7f;
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + b[start + i];
    start += count;
  }
  return { start, end: start + len };
}

/** The key identifier of RFC 5280, 4.2.1.2 (1): SHA-1 of the subjectPublicKey bits. */
function keyId(spki: Buffer): Buffer {
  const outer = element(spki, 0);
  const algorithm = element(spki, outer.start);
  const key = element(spki, algorithm.end);
  return createHash('sha1').update(spki.subarray(key.start + 1, key.end)).digest();
}

/** The 4 or 16 bytes of an IP address (IPv6 with "::" and a dotted IPv4 tail too). */
export function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const groups = (part: string) => (part ? part.split(':') : []).flatMap((g) => (g.indexOf('.') >= 0 ? ipBytes(g).toString('hex').match(/..../g) as string[] : [g]));
  const halves = ip.split('::');
  const head = groups(halves[0]);
  const tail = halves.length > 1 ? groups(halves[1]) : [];
  const all = head.concat(Array(8 - head.length - tail.length).fill('0'), tail);
  return Buffer.from(all.map((g) => g.padStart(4, '0')).join(''), 'hex');
}

function generalName(n: string): Buffer {
  return isIP(n) ? der(0x87, ipBytes(n)) : der(0x82, Buffer.from(n.replace(/\.$/, ''), 'ascii'));
}

function pem(label: string, data: Buffer): string {
  const lines = data.toString('base64').match(/.{1,64}/g) as string[];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function rsaKey(): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return new Promise((resolve, reject) => generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey }))));
}

/** An X.509 v3 certificate, signed with sha256WithRSAEncryption by `signer`. */
function certificate(o: { issuer: string; subject: string; spki: Buffer; notBefore: number; notAfter: number; extensions: Buffer[]; signer: KeyObject }): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x40; // positive, 16 bytes, never a leading zero
  const tbs = seq(
    der(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    SHA256_RSA,
    name(o.issuer),
    seq(time(o.notBefore), time(o.notAfter)),
    name(o.subject),
    o.spki,
    der(0xa3, seq(...o.extensions)),
  );
  return seq(tbs, SHA256_RSA, bits(sign('sha256', tbs, o.signer)));
}

/**
 * A new CA and a server certificate it signs for `names` (DNS names and IP addresses, which
 * {@link nameProblem} accepts; the loopback names are added first): RSA 2048 keys made now,
 * SHA-256 signatures, the extensions the bundled certificates have (the CA's basicConstraints
 * and keyUsage, the server's keyUsage for RSA key exchange, serverAuth and subjectAltName). The
 * CA's private key is dropped once the server certificate is signed, so nothing else can be
 * issued under it. Valid from a day before `now` (boards whose clock is a little behind) for
 * 397 days.
 */
export async function generateCertificates(names: string[] = [], now: number = Date.now()): Promise<GeneratedCertificates> {
  if (!Array.isArray(names)) throw new TypeError('names must be an array of host names and IP addresses');
  const problem = names.map(nameProblem).find((p) => p !== undefined);
  if (problem) throw new TypeError(`bad certificate name: ${problem}`);
  const all: string[] = [];
  LOOPBACK_NAMES.concat(names).forEach((n) => {
    const key = isIP(n) ? ipBytes(n).toString('hex') : n.replace(/\.$/, '').toLowerCase();
    if (!all.some((m) => (isIP(m) ? ipBytes(m).toString('hex') : m.toLowerCase()) === key)) all.push(n.replace(/\.$/, ''));
  });
  const [ca, server] = await Promise.all([rsaKey(), rsaKey()]);
  const caSpki = ca.publicKey.export({ type: 'spki', format: 'der' });
  const serverSpki = server.publicKey.export({ type: 'spki', format: 'der' });
  const caId = keyId(caSpki);
  const caName = 'aliyun-iot-http emulator CA ' + randomBytes(4).toString('hex');
  const notBefore = now - DAY;
  const notAfter = now + 397 * DAY;
  const authority = extension('2.5.29.35', false, seq(der(0x80, caId)));
  const caCert = certificate({
    issuer: caName,
    subject: caName,
    spki: caSpki,
    notBefore,
    notAfter,
    signer: ca.privateKey,
    extensions: [
      extension('2.5.29.14', false, octets(caId)),
      authority,
      extension('2.5.29.19', true, seq(TRUE)),
      extension('2.5.29.15', true, bits(Buffer.from([0x06]), 1)), // keyCertSign, cRLSign
    ],
  });
  const serverCert = certificate({
    issuer: caName,
    subject: all.find((n) => !isIP(n)) || all[0],
    spki: serverSpki,
    notBefore,
    notAfter,
    signer: ca.privateKey,
    extensions: [
      extension('2.5.29.19', false, seq()),
      extension('2.5.29.15', true, bits(Buffer.from([0xa0]), 5)), // digitalSignature, keyEncipherment
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // serverAuth
      extension('2.5.29.17', false, seq(...all.map(generalName))),
      extension('2.5.29.14', false, octets(keyId(serverSpki))),
      authority,
    ],
  });
  return {
    ca: pem('CERTIFICATE', caCert),
    cert: pem('CERTIFICATE', serverCert),
    key: server.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    names: all,
  };
}

/** PEM of the test CA a client must trust to talk to the emulator. */
export const CA_CERT = `-----BEGIN CERTIFICATE-----
MIIDNTCCAh2gAwIBAgIUBYJGkQu7yEkk9jqgLAWZviuCNpswDQYJKoZIhvcNAQEL
BQAwIjEgMB4GA1UEAwwXYWxpeXVuLWlvdC1odHRwIHRlc3QgQ0EwHhcNMjYxMTMw
MDQxODM3WhcNNDYxMTI1MDQxODM3WjAiMSAwHgYDVQQDDBdhbGl5dW4taW90LWh0
dHAgdGVzdCBDQTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAKMbOgCC
aDeFs2vQuatnhzlL+DGXuJ9ZpiN0mjC6vricSF+Bs0yeFwfvpfnMEewhIS+5veVe
FT0BR6HjqdUciwIChMkLpTtY/0L765CZsizmQJWyoe4/G1KFgtfPm8qOKjsr20ZV
slLaaiY4lZVO63hO10M+R3o+FNCx6L5cq0ZHvLke35W5VK5SzI4qTP6ZGrt3K+gE
fggZHaF5gnV93qmBLd0pliZn2GpyQr+ACiW4ihYw/9MDoFUUjC6uhcm2IGysEadR
XPF9l98OXWuVSMCSrMuRDY82pL64dG822oIEnh1z07u/kvv6r2sxSmRnY72q0W33
bE2AjQcW6UJSwJcCAwEAAaNjMGEwHQYDVR0OBBYEFLa/eIRJKSIgOw1hUsw5ObJu
uC4RMB8GA1UdIwQYMBaAFLa/eIRJKSIgOw1hUsw5ObJuuC4RMA8GA1UdEwEB/wQF
MAMBAf8wDgYDVR0PAQH/BAQDAgEGMA0GCSqGSIb3DQEBCwUAA4IBAQAtkwd+FX13
jOkbs3KuRkmoi6lQ7wuGSL1b8fpysJTdNl6dWx7c36mKgqmvnK7d3yi7I+U1M1Ec
KRljifq40q7jRTcrb9ZugDxuUZVQ6wJQb0GbtxhyGH+X4/C6tEFUPrc+7SKkfteM
IvXhyANFn09CgXkZO3wQDLLkXkt4UUicaNEmaGejUtLzeNaaiM2GrL2EUEWhV17m
ecPK3qIOzxkx6gAvMNiAXitYc7pECuuJHnzCeHrE06x5+ncxu9zxLOJz2TTiAWh5
+u5zUy6yBM0s6Xws4a3xj3LOeffjy21gi2j3IkPOyZr2P0euhL78BDybKzXZt0g1
VL+DP0moy+6Z
-----END CERTIFICATE-----
`;

/** Server certificate for localhost, 127.0.0.1 and ::1, signed by CA_CERT. */
export const SERVER_CERT = `-----BEGIN CERTIFICATE-----
MIIDZjCCAk6gAwIBAgIUHcP1om2K0PAsognO6QIS6MbL0LowDQYJKoZIhvcNAQEL
BQAwIjEgMB4GA1UEAwwXYWxpeXVuLWlvdC1odHRwIHRlc3QgQ0EwHhcNMjYxMTMw
MDQxODM4WhcNNDYxMTI1MDQxODM4WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwggEi
MA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDJMGtixOSQPtoZCmxy8U9f4a6v
D9R8QWMnKIYMLis5FJVbpo87EmHpaod9g0L92/669qaL8pCEXMem3BuJ+cyQgIO1
kdVx5RMBzfdPQs2ptX/jNXX2JYjYmXzmyYP1S1bhAZNgVre3HIGbhXzKavjc0fvx
i7KZhomXY+LxZrcGyMtjD1mG3BIGZWBDS71cqCuMNpl4Tc01xkc/U5HWACEIR3CH
HDakAruKKB/pD4Jcy1q8egNWFQK+7m3okak2apGwcQKe//3toJV8EKGZoLXe2N0g
+mnWm5LDzuUXQQQtK/yCjHp19va+PoYtzl5SDfvAt1zhhnHy+gOpYzx2HQFtAgMB
AAGjgaEwgZ4wCQYDVR0TBAIwADAOBgNVHQ8BAf8EBAMCBaAwEwYDVR0lBAwwCgYI
KwYBBQUHAwEwLAYDVR0RBCUwI4IJbG9jYWxob3N0hwR/AAABhxAAAAAAAAAAAAAA
AAAAAAABMB0GA1UdDgQWBBRJ0AsdYL+puAgO8pPDY7riwJyI8zAfBgNVHSMEGDAW
gBS2v3iESSkiIDsNYVLMOTmybrguETANBgkqhkiG9w0BAQsFAAOCAQEAD1TdKEBK
2cIpiSqchdNg9af+3/EhH9oBY2aSLlhBnUbPfzUzZrLRY8HobcnwwOgt90RxRqsG
4HzuSjz4ehxVmxk0JPwyoPBXw14BoJvDyPP2sLIgwnhnkzfhYnAmsyGh1U9VDI5Z
ETBfDuF7n3ccJV2XFAQcDZHb/jpdkqzjK3yeS9U0tWNMbNO87FgpycPSPJz8sxmJ
DFaWI7CkWQtHYB2mzjyZfsqJ2xosBRqxy2AcEMuFS5kGkKE/zLxhjEsRovJNNcJp
z71gesPz8Uahfc7Xq4zu49NkEKHKufQQOBT6tCMjx08vVeQLU9vWP7mB2fptfNa0
64eRNbNFpzjhZA==
-----END CERTIFICATE-----
`;

/** Private key of SERVER_CERT (public: for loopback testing only). */
export const SERVER_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDJMGtixOSQPtoZ
Cmxy8U9f4a6vD9R8QWMnKIYMLis5FJVbpo87EmHpaod9g0L92/669qaL8pCEXMem
3BuJ+cyQgIO1kdVx5RMBzfdPQs2ptX/jNXX2JYjYmXzmyYP1S1bhAZNgVre3HIGb
hXzKavjc0fvxi7KZhomXY+LxZrcGyMtjD1mG3BIGZWBDS71cqCuMNpl4Tc01xkc/
U5HWACEIR3CHHDakAruKKB/pD4Jcy1q8egNWFQK+7m3okak2apGwcQKe//3toJV8
EKGZoLXe2N0g+mnWm5LDzuUXQQQtK/yCjHp19va+PoYtzl5SDfvAt1zhhnHy+gOp
Yzx2HQFtAgMBAAECggEACRu3EN6nFlyyFQYiyMVh+Y5HEUffL8zqB0DPaMfCTzA+
XsrYmy0G38Fh5u3FX6bRDnfSLG3L2yI0K7q1SHbVqwkWbWbvyds8FA3WD3GPzAoa
gxfNglpKqruwKuaeocFKap9eo7LpWFHjED5n2uYi5CRhiprveAHeQstT3+fti1IB
TGhtUNb+zrLe+To8j5uA6kdUnFyrnGTCoDfeYiaEYQAnn0CUoDMvAA1Kk+0UJELf
KlsdAkKkUxyklrpNqB9J2c5OZKk5fTfEu7ZjU6tv42qUQvbKKDWSlxaZVibPa+Et
WfukM1JvcXEvHbDixBviz4udO88BHGBKey8iRY8nAQKBgQDpuIXpj2YnmOIPvr+N
zSXyH9T0N0ZfZ9TvTo3WERwJ5ydRtBfrf79edsVCxb7y9UxpOh9QEgaUM3qPD/cx
Kied0NYmCXTrQlX6tyWU8PgtkQxWonim9T6VJ7B3SS3psWG5fsJOSlF2Ti9fSKJN
t1MxledfCdG56wiOh2gloGkrrQKBgQDcXgcsusb3I0BjO4jWyhbB8OPa8r8gZ1Im
lry1S9hlg/WHiTpRHTRVSjyWG9Z29P93qKPAAN9bf2A5Uwwn8OormpC/2txsn57+
Nhw6H+vI2xbXo5qZoy1LNP66A46cR3OHKgNywLAMZf8OJJbt61jzze+XCzIuNIQ8
fY9IeUHkwQKBgBT0im0qgkpCluI6hAo+vow69mj/G7wqHxllvanX1t+8bfYRY6Ol
zI63r3ARMtGt1LAKmgwf0Z8wDmkNUWiDExI/SzQV3PnK9NKJ4UC9akMLokOSRacS
jg3phRTs5sTxNoXfK6TBXRRyZiTw6jx1l2v2uMv4oWk9/YJp+ZiGDWfxAoGAUZE0
Uqgn8V5I/PISan6PAeZqUKa9e/8Cd2ogG3MhfCHmBe8TeOa4ckFyP5W6QnnY/a+c
PPuVsUZqlY1Z2IbiBpXFsl4ObN6AeVQKCrG6ErSVtefG18uAfm/1QWEDrnD8IDG6
6QTNpSkzyUZd317XpBa78kqgnl2t/L31BTxs2YECgYAswQ8WrTLhDa2uPOQ5mv6z
mOLsQG79BPT/hjDhxsACyJSVRwGxgLTCJp8zlVRGagYx7YMslr3hxvcoRZYSU2ec
a4smrOV8LndDtMHw0mJUq9yBRAqn0TWhIPkrSdspRMWkjcmw90Q01M/ONNoQb0ar
c8g5og+thJti9FHZSA/ufw==
-----END PRIVATE KEY-----
`;
