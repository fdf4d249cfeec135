import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = resolve('scripts/check-monitoring.mjs');

/** Runs scripts/check-monitoring.mjs (against the built metrics in dist/); its exit code and output. */
async function check(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], {
      env: { ...process.env, CI: undefined },
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

const hasPromtool = (() => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A PrometheusRule with one alert of the given expression. */
function rule(expr: string): string {
  return [
    'apiVersion: monitoring.coreos.com/v1',
    'kind: PrometheusRule',
    'metadata: { name: t }',
    'spec:',
    '  groups:',
    '    - name: t',
    '      rules:',
    '        - alert: T',
    `          expr: '${expr.replace(/'/g, "''")}'`,
    '          labels: { severity: warning }',
    '          annotations: { summary: s, description: d }',
    '',
  ].join('\n');
}

describe('scripts/check-monitoring.mjs: alerts and dashboard name metrics the code registers', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'check-monitoring-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it("the project's PrometheusRule and dashboard pass", async () => {
    const { code, output } = await check();
    expect([code, output]).toEqual([
      0,
      expect.stringMatching(/^check-monitoring: \d+ rules and \d+ dashboard/),
    ]);
  });

  it('a registered metric with its own labels passes', async () => {
    const ok = file(
      'ok.yaml',
      rule('sum by (namespace, route) (rate(authz_http_requests_total{status=~"5.."}[5m])) > 0'),
    );
    expect(await check('--rules', ok)).toMatchObject({ code: 0 });
  });

  it('a rule naming a metric the code does not register fails, naming it', async () => {
    const bad = file('unknown.yaml', rule('rate(authz_http_requests_totl[5m]) > 0'));
    const { code, output } = await check('--rules', bad);
    expect(code).toBe(1);
    expect(output).toContain('authz_http_requests_totl is not a metric the code registers');
  });

  it('a label the metric does not have fails (le on a histogram count; a misspelt grouping)', async () => {
    const bad = file(
      'labels.yaml',
      rule(
        'authz_http_request_duration_seconds_count{le="1"} > 0 or sum by (routee) (authz_projection_lag_events) > 0',
      ),
    );
    const { code, output } = await check('--rules', bad);
    expect(code).toBe(1);
    expect(output).toContain('authz_http_request_duration_seconds_count has no label le');
    expect(output).toContain('groups by routee');
  });

  it('an expression that does not parse fails', async () => {
    const bad = file('syntax.yaml', rule('sum(rate(authz_http_requests_total[5m]) > 0'));
    const { code, output } = await check('--rules', bad);
    expect(code).toBe(1);
    expect(output).toContain('does not parse');
  });

  it('an alert without severity, summary or description fails', async () => {
    const bad = file(
      'bare.yaml',
      'groups:\n  - name: t\n    rules:\n      - alert: T\n        expr: up == 0\n',
    );
    const { code, output } = await check('--rules', bad);
    expect(code).toBe(1);
    expect(output).toMatch(/no severity label[\s\S]*no summary[\s\S]*no description/);
  });

  it('a dashboard that is not JSON, or whose panel names an unknown metric, fails', async () => {
    const broken = file('broken.json', '{"title": ');
    expect(await check('--dashboard', broken)).toMatchObject({
      code: 1,
      output: expect.stringContaining('not JSON'),
    });
    const unknown = file(
      'unknown.json',
      JSON.stringify({
        title: 't',
        panels: [
          {
            title: 'p',
            targets: [
              {
                refId: 'A',
                expr: 'max(nodejs_eventloop_lag_p99_second{namespace="$namespace"}[$__rate_interval])',
              },
            ],
          },
        ],
      }),
    );
    const { code, output } = await check('--dashboard', unknown);
    expect(code).toBe(1);
    expect(output).toContain('nodejs_eventloop_lag_p99_second is not a metric the code registers');
  });

  (hasPromtool ? it : it.skip)(
    'promtool runs the unit tests beside a rules file: a wrong expectation fails',
    async () => {
      const rules = file('tested.yaml', rule('authz_relay_lag_events > 1000'));
      const tests = (value: number) =>
        file(
          'tested.test.yaml',
          [
            'tests:',
            '  - interval: 1m',
            '    input_series:',
            `      - series: 'authz_relay_lag_events{namespace="a", stream="S"}'`,
            `        values: '${value}x10'`,
            '    alert_rule_test:',
            '      - eval_time: 5m',
            '        alertname: T',
            '        exp_alerts:',
            '          - exp_labels: { severity: warning, namespace: a, stream: S }',
            '            exp_annotations: { summary: s, description: d }',
            '',
          ].join('\n'),
        );
      tests(5000);
      expect(await check('--rules', rules)).toMatchObject({
        code: 0,
        output: expect.stringContaining('promtool check rules and test rules'),
      });
      tests(10);
      const { code, output } = await check('--rules', rules);
      expect(code).toBe(1);
      expect(output).toContain('promtool');
      expect(output).toContain('FAILED');
    },
  );
});
