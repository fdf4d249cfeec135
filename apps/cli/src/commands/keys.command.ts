import type { Command } from 'commander';
import {
  type RetireSigningKeyRequest,
  signingKeyDocument,
  type RotateSigningKeyRequest,
  type RotateSigningKeyResponse,
  type SigningKeyList,
  type SigningKeyView,
  Subjects,
} from '#lib/contracts';
import { type CliContext, withJson } from '../cli-context.js';

/** `keys …`: the signing keys, through the token service over NATS (docs/signing-keys.md). */
export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program
    .command('keys')
    .description('signing keys: list, rotate, retire (NATS only: the admin API does not offer them)');
  const call = async <T>(cmd: Command, subject: string, payload: object = {}): Promise<T> => {
    await ctx.useDevEnvironment();
    const config = await ctx.direct(cmd, 'NATS');
    const { adminCommand, withRpc } = await import('../rpc.js');
    const admin = adminCommand(config);
    return withRpc(config, (rpc) => rpc.request<T>(subject, { ...admin, ...payload }));
  };

  withJson(keys.command('list').description('the signing keys, their status and dates')).action(
    async (_o: unknown, cmd: Command) => {
      const list = await call<SigningKeyList>(cmd, Subjects.token.admin.listKeys);
      ctx.out(cmd).data({ keys: list.keys.map(signingKeyDocument) }, () => formatKeyTable(list.keys));
    },
  );

  withJson(
    keys
      .command('rotate')
      .description('publish a successor key (it signs after pre-publication), or activate it with --now')
      .option('--now', 'activate a published successor at once')
      .option(
        '--id-token <alg>',
        'the ID-token key of this alg (RS256, ES256, EdDSA), not the access-token key',
      ),
  ).action(async (o: { now?: boolean; idToken?: string }, cmd: Command) => {
    const request: Omit<RotateSigningKeyRequest, 'context' | 'credential'> = {
      now: o.now === true,
      ...(o.idToken !== undefined ? { idTokenAlg: o.idToken } : {}),
    };
    const result = await call<RotateSigningKeyResponse>(cmd, Subjects.token.admin.rotateKey, request);
    const { key } = result;
    ctx.out(cmd).data({ outcome: result.outcome, key: signingKeyDocument(key) }, () => {
      switch (result.outcome) {
        case 'published':
          return `published ${key.kid} (${key.alg}); it signs from ${key.activatesAt}`;
        case 'already-pending':
          return [
            `${key.kid} (${key.alg}) is already published and signs from ${key.activatesAt}`,
            '(keys rotate --now activates it at once)',
          ];
        case 'activated':
          return `${key.kid} (${key.alg}) is active now`;
        default: {
          const unknown: never = result.outcome;
          throw new Error(`unexpected outcome ${String(unknown)}`);
        }
      }
    });
  });

  withJson(
    keys
      .command('retire')
      .description('retire a key: it stops signing and leaves the JWKS after its tokens expire')
      .argument('<kid>')
      .option('--withdraw', 'leave the JWKS now (a compromised key): tokens it signed stop verifying'),
  ).action(async (kid: string, o: { withdraw?: boolean }, cmd: Command) => {
    const request: Omit<RetireSigningKeyRequest, 'context' | 'credential'> = {
      kid,
      withdraw: o.withdraw === true,
    };
    const key = await call<SigningKeyView>(cmd, Subjects.token.admin.retireKey, request);
    ctx
      .out(cmd)
      .data(
        signingKeyDocument(key),
        () =>
          `${key.kid} retired; ${key.inJwks ? `in the JWKS until ${key.publishUntil}` : 'no longer in the JWKS'}`,
      );
  });
}

/** One line per key: kid, alg, status, and its dates (ISO 8601, `-` when not reached). */
export function formatKeyTable(keys: readonly SigningKeyView[]): string {
  const header = [
    'KID',
    'ALG',
    'STATUS',
    'JWKS',
    'GENERATED',
    'ACTIVATES',
    'ACTIVATED',
    'RETIRED',
    'PUBLISHED UNTIL',
  ];
  const rows = keys.map((k) => [
    k.kid,
    k.alg,
    k.status,
    k.inJwks ? 'yes' : 'no',
    k.generatedAt,
    k.activatesAt,
    k.activatedAt ?? '-',
    k.retiredAt ?? '-',
    k.publishUntil ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
