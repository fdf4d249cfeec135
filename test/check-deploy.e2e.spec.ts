import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A copy of what scripts/check-deploy.mjs reads, with the project's node_modules and dist/ linked. */
function copyOfProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'check-deploy-'));
  for (const path of [
    'deploy',
    'scripts/check-deploy.mjs',
    'Dockerfile',
    'package.json',
    'docker-compose.yml',
    'libs/config/src/node-flags.ts',
  ])
    cpSync(resolve(path), join(root, path), { recursive: true });
  symlinkSync(resolve('dist'), join(root, 'dist'));
  // node_modules entry by entry: the check writes its own node_modules/.cache.
  mkdirSync(join(root, 'node_modules'));
  for (const entry of readdirSync(resolve('node_modules')).filter((e) => e !== '.cache'))
    symlinkSync(resolve('node_modules', entry), join(root, 'node_modules', entry));
  return root;
}

async function check(root: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'scripts/check-deploy.mjs')]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

function edit(root: string, path: string, change: (text: string) => string): void {
  const file = join(root, path);
  const before = readFileSync(file, 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`the edit of ${path} changed nothing`);
  writeFileSync(file, after);
}

describe('scripts/check-deploy.mjs: the manifests an operator applies', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  it('a copy of the project passes (so the failures below come from the edits)', async () => {
    const root = copyOfProject();
    roots.push(root);
    const { code, output } = await check(root);
    expect([code, output]).toEqual([
      0,
      expect.stringContaining('check-deploy: deploy/base, deploy/overlays/dev'),
    ]);
  }, 60_000);

  it('fails on a kustomize warning, replicas beside an autoscaler, a migration Job not named after its image, a ConfigMap in the Job, a Postgres URL the NetworkPolicy does not admit, an app no ServiceMonitor scrapes, and image labels that disagree with package.json', async () => {
    const root = copyOfProject();
    roots.push(root);
    // Deprecated field: kustomize still builds, and warns on stderr.
    edit(root, 'deploy/overlays/dev/kustomization.yaml', (t) => t.replace(/^resources:/m, 'bases:'));
    edit(root, 'deploy/base/token.yaml', (t) => t.replace(/^spec:\n/m, 'spec:\n  replicas: 2\n'));
    edit(root, 'deploy/overlays/production/kustomization.yaml', (t) =>
      t.slice(0, t.indexOf('# The migration Job named')),
    );
    edit(root, 'deploy/base/migrate-job.yaml', (t) =>
      t.replace(
        '          envFrom:\n',
        '          envFrom:\n            - configMapRef:\n                name: authz-config\n',
      ),
    );
    edit(root, 'deploy/base/secret.example.yaml', (t) =>
      t.replace(
        'DATABASE_URL: postgres://authz:CHANGE-ME@authz-db-rw:5432',
        'DATABASE_URL: postgres://authz:CHANGE-ME@postgres:5432',
      ),
    );
    edit(root, 'deploy/components/monitoring/service-monitor.yaml', (t) =>
      t.replace('- port: ops', '- port: metrics'),
    );
    edit(root, 'Dockerfile', (t) => t.replace('image.licenses="Apache-2.0"', 'image.licenses="MIT"'));
    const { code, output } = await check(root);
    expect(code).toBe(1);
    expect(output).toMatch(/deploy\/overlays\/dev: kustomize printed: .*'bases' is deprecated/);
    expect(output).toContain('deploy/base token: sets replicas (2) beside its HorizontalPodAutoscaler');
    expect(output).toContain(
      'deploy/overlays/production: Job authz-migrate is not named after its image tag (authz-migrate-0.1.0)',
    );
    expect(output).toContain('Job/authz-migrate-dev: takes a ConfigMap');
    expect(output).toMatch(/secret\.example\.yaml authz-[\w-]+\): DATABASE_URL names postgres/);
    expect(output).toContain(
      'deploy/overlays/production Service/token: no ServiceMonitor scrapes its ops port',
    );
    expect(output).toContain(
      'Dockerfile: org.opencontainers.image.licenses is MIT, package.json says Apache-2.0',
    );
  }, 60_000);

  it('RET-K01 fails the retention CronJob (components/retention) when its archives are not on a PersistentVolumeClaim, runs may overlap, its pod is not hardened, or its egress reaches NATS and not Postgres', async () => {
    const root = copyOfProject();
    roots.push(root);
    const cronJob = 'deploy/components/retention/cronjob.yaml';
    // An emptyDir goes with the pod: the archives, the only copy of what the run deleted, with it.
    edit(root, cronJob, (t) =>
      t.replace(/persistentVolumeClaim:\n {16}claimName: authz-retention-archives/, 'emptyDir: {}'),
    );
    edit(root, cronJob, (t) => t.replace('concurrencyPolicy: Forbid', 'concurrencyPolicy: Allow'));
    edit(root, cronJob, (t) => t.replace(/^ +readOnlyRootFilesystem: true\n/m, ''));
    edit(root, 'deploy/base/network-policies.yaml', (t) =>
      t
        .replace("values: ['retention']", "values: ['none']")
        .replace(", 'migrate', 'retention']", ", 'migrate']"),
    );
    const { code, output } = await check(root);
    expect(code).toBe(1);
    const job = 'deploy/overlays/production CronJob/authz-retention';
    expect(output).toContain(
      `${job}: RETENTION_ARCHIVE_DIR /var/lib/authz/retention is not on a PersistentVolumeClaim of the build`,
    );
    expect(output).toContain(`${job}: concurrencyPolicy is not Forbid`);
    expect(output).toContain(`${job} retention: root filesystem is not read-only`);
    expect(output).toContain(
      'deploy/overlays/production NetworkPolicy authz-egress-dns-nats (retention egress): retention may reach only DNS and Postgres, not port 4222',
    );
    expect(output).toContain('deploy/overlays/production retention: no egress to Postgres (5432)');
    // Only the overlay that includes the component has the CronJob.
    expect(output).not.toContain('deploy/overlays/dev CronJob');
  }, 60_000);

  it('fails when PAIRWISE_SUBJECT_KEY (OpenID Connect Core §8.1) is missing where the token and introspection services get their secrets', async () => {
    const root = copyOfProject();
    roots.push(root);
    edit(root, 'docker-compose.yml', (t) => t.replace(/^ {6}PAIRWISE_SUBJECT_KEY: .*\n/m, ''));
    edit(root, 'deploy/base/secret.example.yaml', (t) =>
      t.replace(/(name: authz-introspection[\s\S]*?)^ {2}PAIRWISE_SUBJECT_KEY: .*\n/m, '$1'),
    );
    const { code, output } = await check(root);
    expect(code).toBe(1);
    expect(output).toContain('docker-compose.yml token: lacks PAIRWISE_SUBJECT_KEY');
    expect(output).toContain(
      'deploy/base/secret.example.yaml authz-introspection: lacks PAIRWISE_SUBJECT_KEY',
    );
  }, 60_000);
});
