import { z } from 'zod';
import { bool, int, problem, settings } from './env.js';

/** RPC_TIMEOUT_MS: how long the gateway waits for a service before answering 503. Default 5000. */
export const RPC_TIMEOUT_MS = ['RPC_TIMEOUT_MS', int(100, 60000).default(5000)] as const;

export const busSettings = settings({
  /**
   * NATS_ALLOW_UNAUTHENTICATED: `true` lets a process with NODE_ENV=production run on a NATS server
   * that asks for no credentials. Default `false`: such a process refuses to start.
   */
  natsAllowUnauthenticated: ['NATS_ALLOW_UNAUTHENTICATED', bool.default(false)],
  /** NATS_URL: comma-separated NATS servers (JetStream enabled). Default nats://127.0.0.1:4222. */
  natsServers: [
    'NATS_URL',
    z
      .string()
      .default('nats://127.0.0.1:4222')
      .transform((s) =>
        s
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean),
      ),
  ],
  /** NATS_USER / NATS_PASSWORD or NATS_TOKEN: NATS credentials, when the server requires them. */
  natsUser: ['NATS_USER', z.string().optional()],
  natsPassword: ['NATS_PASSWORD', z.string().optional()],
  natsToken: ['NATS_TOKEN', z.string().optional()],
  /**
   * NATS_TLS_CA_FILE: CA bundle that signs the NATS server certificate (TLS to NATS; a `tls://`
   * NATS_URL requires TLS). NATS_TLS_CERT_FILE / NATS_TLS_KEY_FILE: client certificate and key, when
   * the server verifies clients. Unset by default (plain TCP, for local development).
   */
  natsTlsCaFile: ['NATS_TLS_CA_FILE', z.string().optional()],
  natsTlsCertFile: ['NATS_TLS_CERT_FILE', z.string().optional()],
  natsTlsKeyFile: ['NATS_TLS_KEY_FILE', z.string().optional()],
  /**
   * NATS_SUBJECT_PREFIX: first token of every subject, so that several installations (or a test
   * run beside a dev system) can share one NATS. Default `authz`.
   */
  subjectPrefix: [
    'NATS_SUBJECT_PREFIX',
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'may hold only letters, digits, _ and -')
      .default('authz'),
  ],
  /** EVENTS_STREAM: name of the JetStream stream that carries the event log. Default AUTHZ_EVENTS. */
  eventsStream: ['EVENTS_STREAM', z.string().default('AUTHZ_EVENTS')],
  rpcTimeoutMs: RPC_TIMEOUT_MS,
}).superRefine((nats, ctx) => {
  if (!nats.natsTlsCertFile !== !nats.natsTlsKeyFile)
    problem(ctx, 'NATS_TLS_CERT_FILE', 'NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE go together');
});

export type NatsConfig = z.output<typeof busSettings>;
