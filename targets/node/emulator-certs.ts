/**
 * TLS material for the loopback emulator. THESE KEYS ARE PUBLIC: they are committed to this
 * repository and must only ever be used for loopback testing (localhost, 127.0.0.1, ::1).
 * Never trust CA_CERT outside tests.
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
