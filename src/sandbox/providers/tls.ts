/**
 * Self-signed TLS for local emulators of providers whose SDKs force `wss:`/`https:` (Cartesia TTS, OpenAI
 * Realtime). The certificate is made at start (no files, no `openssl`), valid for 127.0.0.1, ::1 and
 * localhost. Clients trust it per connection by passing {@link SelfSignedCertificate.cert} as `ca` in their
 * `ws`/`https` options — never by turning TLS checks off for the process.
 */
import { createServer, type Server } from 'node:https';
import selfsigned from 'selfsigned';

export interface SelfSignedCertificate {
  /** PEM certificate; it is its own CA, so clients pass it as `ca`. */
  cert: string;
  /** PEM private key (PKCS#8). */
  key: string;
  /** SHA-1 fingerprint, colon-separated hex (as `openssl x509 -fingerprint` prints it). */
  fingerprint: string;
}

export interface CertificateOptions {
  /** Extra DNS names besides `localhost`. @default [] */
  dnsNames?: string[];
  /** Validity in days from now. @default 30 */
  days?: number;
}

/** Makes a fresh EC P-256 certificate for local servers (~20 ms). */
export async function createSelfSignedCertificate(options: CertificateOptions = {}): Promise<SelfSignedCertificate> {
  const notBeforeDate = new Date(Date.now() - 60_000); // tolerate small clock differences
  const notAfterDate = new Date(notBeforeDate.getTime() + (options.days ?? 30) * 86_400_000);
  const dnsNames = ['localhost', ...(options.dnsNames ?? [])];
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'switchboard-sandbox' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      // A CA flag lets the certificate itself be the trust anchor clients pass as `ca`.
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...dnsNames.map((value) => ({ type: 2 as const, value })),
          { type: 7 as const, ip: '127.0.0.1' },
          { type: 7 as const, ip: '::1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private, fingerprint: pems.fingerprint };
}

/** An HTTPS server (not yet listening) with a fresh self-signed certificate. */
export async function createTlsServer(options: CertificateOptions = {}): Promise<{
  server: Server;
  certificate: SelfSignedCertificate;
}> {
  const certificate = await createSelfSignedCertificate(options);
  const server = createServer({ cert: certificate.cert, key: certificate.key });
  return { server, certificate };
}
