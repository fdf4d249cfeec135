import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { basic, freePort, postForm, type RunningSystem, startSystem } from './support/system.js';

const run = promisify(execFile);
const ROOT = process.cwd();
const PACKAGE_DIR = resolve(ROOT, 'libs/resource-guard');
const TSC = resolve(ROOT, 'node_modules/typescript/bin/tsc');

/** The version of a dependency installed here: the scratch apps ask npm for the same, so its cache serves it. */
const installed = (name: string): string =>
  (
    JSON.parse(readFileSync(resolve(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

/** A NestJS API as an integrator writes it, against the installed package only (Fastify platform). */
const NEST_APP = `
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { VerifiedAccessToken } from '@authz/resource-guard';
import { AccessToken, RequireScopes, ResourceGuardModule } from '@authz/resource-guard/nest';

@Controller('api')
class ItemsController {
  @Get('items')
  @RequireScopes('email')
  items(@AccessToken() token: VerifiedAccessToken) {
    return { sub: token.claims.sub, scopes: token.scopes };
  }
}

@Module({
  imports: [ResourceGuardModule.forRoot({ issuer: process.env.ISSUER!, audience: process.env.AUDIENCE! })],
  controllers: [ItemsController],
})
class AppModule {}

const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
  logger: ['error'],
});
await app.listen(Number(process.env.PORT), '127.0.0.1');
console.log('listening');
`;

/** The same API in plain Node.js (node:http), with the package's main entry and no NestJS installed. */
const PLAIN_APP = `
import { createServer } from 'node:http';
import {
  AccessTokenVerifier,
  BearerError,
  bearerChallenge,
  bearerErrorBody,
  extractBearerToken,
} from '@authz/resource-guard';

const { ISSUER: issuer, AUDIENCE: audience, PORT: port } = process.env;
const verifier = new AccessTokenVerifier({ issuer, audience });

createServer(async (req, res) => {
  const send = (status, headers, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  };
  try {
    const extracted = extractBearerToken({ authorization: req.headers.authorization, url: req.url });
    if ('error' in extracted) throw extracted.error;
    const { claims, scopes } = await verifier.verify(extracted.token, { scopes: ['email'] });
    send(200, {}, { sub: claims.sub, scopes });
  } catch (err) {
    if (!(err instanceof BearerError)) return send(500, {}, { error: 'server_error' });
    const headers =
      err.status === 503 ? { 'retry-after': '5' } : { 'www-authenticate': bearerChallenge(err, audience) };
    send(err.status, headers, bearerErrorBody(err));
  }
}).listen(Number(port), '127.0.0.1', () => console.log('listening'));
`;

/** Writes a scratch project in `dir` and installs it, preferring npm's cache (filled by this repo's `npm ci`). */
async function scratchProject(dir: string, dependencies: Record<string, string>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies }, null, 2),
  );
  await run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: dir,
    timeout: 90000,
  });
}

/** Starts `node <entry>` in `dir` and waits for its "listening" line. */
function startApp(
  dir: string,
  entry: string,
  env: Record<string, string>,
  output: string[],
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [entry], { cwd: dir, env: { ...process.env, ...env } });
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${entry} did not start:\n${output.join('')}`)), 20000);
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (chunk.toString().includes('listening')) {
        clearTimeout(timer);
        ok(child);
      }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${entry} exited (${code}):\n${output.join('')}`));
    });
  });
}

/**
 * libs/resource-guard as an integrator gets it: `npm pack`ed, installed from the tarball into
 * projects outside this repository (so nothing resolves to the monorepo), then used by a NestJS
 * API (the `./nest` entry, compiled by tsc against the package's declarations) and by a plain
 * Node.js API with no NestJS installed (the main entry), both against the real authorization
 * server. Each answers RFC 6750 §3: 401 with a bare Bearer challenge without a token, 200 with
 * the scope, 403 insufficient_scope without it.
 */
describe('@authz/resource-guard, packed and installed in apps outside the monorepo', () => {
  let system: RunningSystem;
  let scratch: string;
  const apps: { name: string; url: string; child?: ChildProcess; output: string[] }[] = [];

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'resource-guard-package-'));
    const packing = (async () => {
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch], {
        cwd: PACKAGE_DIR,
        timeout: 60000,
      });
      const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[];
      return `file:${join(scratch, filename)}`;
    })();
    const [started, tarball] = await Promise.all([startSystem(), packing]);
    system = started;
    const nestDir = join(scratch, 'nest-app');
    const plainDir = join(scratch, 'plain-app');
    await Promise.all([
      scratchProject(nestDir, {
        '@authz/resource-guard': tarball,
        '@nestjs/common': installed('@nestjs/common'),
        '@nestjs/core': installed('@nestjs/core'),
        '@nestjs/platform-fastify': installed('@nestjs/platform-fastify'),
        'reflect-metadata': installed('reflect-metadata'),
        rxjs: installed('rxjs'),
        '@types/node': installed('@types/node'),
      }),
      scratchProject(plainDir, { '@authz/resource-guard': tarball }),
    ]);
    // The main entry must work without the optional NestJS peers.
    expect(existsSync(join(plainDir, 'node_modules/@nestjs'))).toBe(false);

    writeFileSync(join(nestDir, 'main.ts'), NEST_APP);
    writeFileSync(
      join(nestDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          skipLibCheck: true,
          types: ['node'],
          outDir: 'dist',
        },
        files: ['main.ts'],
      }),
    );
    await run(process.execPath, [TSC, '-p', join(nestDir, 'tsconfig.json')], {
      cwd: nestDir,
      timeout: 60000,
    });
    writeFileSync(join(plainDir, 'main.mjs'), PLAIN_APP);

    for (const [name, dir, entry] of [
      ['NestJS', nestDir, 'dist/main.js'],
      ['plain Node.js', plainDir, 'main.mjs'],
    ] as const) {
      const port = await freePort();
      const app: (typeof apps)[number] = { name, url: `http://127.0.0.1:${port}`, output: [] };
      apps.push(app);
      app.child = await startApp(
        dir,
        entry,
        { ISSUER: system.issuer, AUDIENCE: app.url, PORT: String(port) },
        app.output,
      );
    }
  }, 150000);

  afterAll(async () => {
    for (const app of apps) app.child?.kill('SIGTERM');
    await system?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** A client-credentials token of the real server, for `audience`, with `scope`. */
  async function tokenFor(audience: string, scope: string): Promise<string> {
    const client = await system.createClient([
      '--name',
      `caller of ${audience}`,
      '--grant',
      'client_credentials',
      '--scope',
      'email profile',
      '--audience',
      audience,
    ]);
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', scope },
      { authorization: basic(client.client_id, client.client_secret) },
    );
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  const each = ['NestJS', 'plain Node.js'];
  const appNamed = (name: string) => apps.find((a) => a.name === name)!;

  it.each(each)('%s: no token: 401 with a bare Bearer challenge (RFC 6750 §3.1)', async (name) => {
    const { url } = appNamed(name);
    const res = await fetch(`${url}/api/items`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${url}"`);
    expect(await res.json()).toMatchObject({ error: 'unauthorized' });
  });

  it.each(each)('%s: a valid token of its audience with the scope: 200', async (name) => {
    const { url } = appNamed(name);
    const token = await tokenFor(url, 'email profile');
    const res = await fetch(`${url}/api/items`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ scopes: ['email', 'profile'] });
  });

  it.each(each)(
    '%s: a valid token without the scope: 403 insufficient_scope (RFC 6750 §3.1)',
    async (name) => {
      const { url } = appNamed(name);
      const token = await tokenFor(url, 'profile');
      const res = await fetch(`${url}/api/items`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer realm="${url}", error="insufficient_scope", error_description="this request needs scope: email", scope="email"`,
      );
      expect(await res.json()).toMatchObject({ error: 'insufficient_scope', scope: 'email' });
    },
  );

  it.each(each)('%s: a token of this issuer for another audience: 401 invalid_token', async (name) => {
    const { url } = appNamed(name);
    const other = apps.find((a) => a.name !== name)!.url;
    const token = await tokenFor(other, 'email');
    const res = await fetch(`${url}/api/items`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});
