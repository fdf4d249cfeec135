// Deletes the JetStream streams that a .ci/run left behind: this run's (named EVENTS_STREAM or
// EVENTS_STREAM_..., or with a subject under NATS_SUBJECT_PREFIX; both are unique per run), and
// those of earlier runs, named the same way, more than 12 hours old (runs killed before cleanup).
// Best effort: .ci/run ignores its exit status. Only names and subjects of the CI pattern are touched.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

const CI_NAME = /^authz_ci_(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})_\d+/i;
const STALE_MS = 12 * 60 * 60 * 1000;

const prefix = process.env.NATS_SUBJECT_PREFIX ?? '';
const stream = process.env.EVENTS_STREAM ?? '';
if (!CI_NAME.test(prefix) || !CI_NAME.test(stream)) {
  console.error(
    '[ci] jetstream cleanup: NATS_SUBJECT_PREFIX and EVENTS_STREAM are not those of a CI run, nothing done',
  );
  process.exit(1);
}

const isStale = (name) => {
  const m = CI_NAME.exec(name);
  return m !== null && Date.now() - Date.UTC(m[1], m[2] - 1, m[3], m[4], m[5], m[6]) > STALE_MS;
};

const nc = await connect({
  servers: (process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(','),
  user: process.env.NATS_USER || undefined,
  pass: process.env.NATS_PASSWORD || undefined,
  token: process.env.NATS_TOKEN || undefined,
  timeout: 5000,
});
try {
  const jsm = await jetstreamManager(nc);
  const doomed = [];
  for await (const info of jsm.streams.list()) {
    const { name, subjects = [] } = info.config;
    const ours =
      name === stream || name.startsWith(`${stream}_`) || subjects.some((s) => s.startsWith(`${prefix}.`));
    if (ours || isStale(name) || subjects.some(isStale)) doomed.push(name);
  }
  for (const name of doomed) await jsm.streams.delete(name);
  console.log(
    `[ci] jetstream cleanup: ${doomed.length} stream(s) deleted${doomed.length ? `: ${doomed.join(', ')}` : ''}`,
  );
} finally {
  await nc.close();
}
