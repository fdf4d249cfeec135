import { bool, ConfigError, type Env, int, str } from './env.js';

export interface NatsConfig {
  /**
   * NATS_ALLOW_UNAUTHENTICATED: `true` lets a process with NODE_ENV=production run on a NATS server
   * that asks for no credentials. Default `false`: such a process refuses to start.
   */
  natsAllowUnauthenticated: boolean;
  /** NATS_URL: comma-separated NATS servers (JetStream enabled). Default nats://127.0.0.1:4222. */
  natsServers: string[];
  /** NATS_USER / NATS_PASSWORD or NATS_TOKEN: NATS credentials, when the server requires them. */
  natsUser: string | undefined;
  natsPassword: string | undefined;
  natsToken: string | undefined;
  /**
   * NATS_TLS_CA_FILE: CA bundle that signs the NATS server certificate (TLS to NATS; a `tls://`
   * NATS_URL requires TLS). NATS_TLS_CERT_FILE / NATS_TLS_KEY_FILE: client certificate and key, when
   * the server verifies clients. Unset by default (plain TCP, for local development).
   */
  natsTlsCaFile: string | undefined;
  natsTlsCertFile: string | undefined;
  natsTlsKeyFile: string | undefined;
  /**
   * NATS_SUBJECT_PREFIX: first token of every subject, so that several installations (or a test
   * run beside a dev system) can share one NATS. Default `authz`.
   */
  subjectPrefix: string;
  /** EVENTS_STREAM: name of the JetStream stream that carries the event log. Default AUTHZ_EVENTS. */
  eventsStream: string;
  /** RPC_TIMEOUT_MS: how long the gateway waits for a service before answering 503. Default 5000. */
  rpcTimeoutMs: number;
}

export function readNatsConfig(env: Env): NatsConfig {
  const nats: NatsConfig = {
    natsServers: str(env, 'NATS_URL', 'nats://127.0.0.1:4222')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    natsUser: env.NATS_USER || undefined,
    natsPassword: env.NATS_PASSWORD || undefined,
    natsToken: env.NATS_TOKEN || undefined,
    natsTlsCaFile: env.NATS_TLS_CA_FILE || undefined,
    natsTlsCertFile: env.NATS_TLS_CERT_FILE || undefined,
    natsTlsKeyFile: env.NATS_TLS_KEY_FILE || undefined,
    subjectPrefix: str(env, 'NATS_SUBJECT_PREFIX', 'authz'),
    eventsStream: str(env, 'EVENTS_STREAM', 'AUTHZ_EVENTS'),
    rpcTimeoutMs: int(env, 'RPC_TIMEOUT_MS', 5000, 100, 60000),
    natsAllowUnauthenticated: bool(env, 'NATS_ALLOW_UNAUTHENTICATED', false),
  };
  if (Boolean(nats.natsTlsCertFile) !== Boolean(nats.natsTlsKeyFile)) {
    throw new ConfigError('NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE go together');
  }
  if (!/^[A-Za-z0-9_-]+$/.test(nats.subjectPrefix)) {
    throw new ConfigError('NATS_SUBJECT_PREFIX may hold only letters, digits, _ and -');
  }
  return nats;
}
