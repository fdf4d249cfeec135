import type { Config } from '#lib/config';
import {
  type RetireSigningKeyRequest,
  type RotateSigningKeyRequest,
  type RotateSigningKeyResponse,
  type SigningKeyList,
  type SigningKeyView,
  Subjects,
} from '#lib/contracts';
import { parseArgs } from 'node:util';
import { adminCommand, withRpc } from '../rpc.js';

export const KEYS_USAGE = `keys list [--json]
keys rotate [--now] [--json]
keys retire KID [--withdraw] [--json]`;

/** The signing keys, through the token service (docs/signing-keys.md). */
export async function keysCommand(
  config: Config,
  args: string[],
  print: (line: string) => void = (line) => console.log(line),
): Promise<void> {
  const [sub, ...rest] = args;
  const admin = adminCommand(config);
  switch (sub) {
    case 'list': {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
      const list = await withRpc(config, (rpc) =>
        rpc.request<SigningKeyList>(Subjects.token.admin.listKeys, admin),
      );
      if (values.json) return print(JSON.stringify(list));
      print(formatKeyTable(list.keys));
      return;
    }
    case 'rotate': {
      const { values } = parseArgs({
        args: rest,
        options: { now: { type: 'boolean' }, json: { type: 'boolean' } },
      });
      const request: RotateSigningKeyRequest = { ...admin, now: values.now === true };
      const result = await withRpc(config, (rpc) =>
        rpc.request<RotateSigningKeyResponse>(Subjects.token.admin.rotateKey, request),
      );
      if (values.json) return print(JSON.stringify(result));
      const { key } = result;
      switch (result.outcome) {
        case 'published':
          print(`published ${key.kid} (${key.alg}); it signs from ${key.activatesAt}`);
          return;
        case 'already-pending':
          print(`${key.kid} (${key.alg}) is already published and signs from ${key.activatesAt}`);
          print('(keys rotate --now activates it at once)');
          return;
        case 'activated':
          print(`${key.kid} (${key.alg}) is active now`);
          return;
        default: {
          const unknown: never = result.outcome;
          throw new Error(`unexpected outcome ${String(unknown)}`);
        }
      }
    }
    case 'retire': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { withdraw: { type: 'boolean' }, json: { type: 'boolean' } },
      });
      const kid = positionals[0];
      if (kid === undefined || positionals.length !== 1) throw new Error(`usage: ${KEYS_USAGE}`);
      const request: RetireSigningKeyRequest = {
        ...admin,
        kid,
        withdraw: values.withdraw === true,
      };
      const key = await withRpc(config, (rpc) =>
        rpc.request<SigningKeyView>(Subjects.token.admin.retireKey, request),
      );
      if (values.json) return print(JSON.stringify(key));
      print(
        `${key.kid} retired; ${key.inJwks ? `in the JWKS until ${key.publishUntil}` : 'no longer in the JWKS'}`,
      );
      return;
    }
    default:
      throw new Error(`usage: ${KEYS_USAGE}`);
  }
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
