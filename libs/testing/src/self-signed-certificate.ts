import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCertificate {
  /** PEM certificate: also its own trust anchor (`ca`, NODE_EXTRA_CA_CERTS). */
  cert: string;
  key: string;
  /** The certificate written to a file, for NODE_EXTRA_CA_CERTS of a child process. */
  certFile: string;
  dispose(): void;
}

/**
 * A P-256 certificate for 127.0.0.1, ::1, localhost and `names`, valid for a day, made with the
 * openssl command (Node has no API that issues X.509 certificates), for tests that need a TLS server.
 */
export function selfSignedCertificate(names: string[] = []): SelfSignedCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'tls-test-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      `subjectAltName=${['IP:127.0.0.1', 'IP:::1', 'DNS:localhost', ...names.map((n) => `DNS:${n}`)].join(',')}`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return {
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
    certFile,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
