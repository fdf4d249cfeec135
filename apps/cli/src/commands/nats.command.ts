import type { Config } from '#lib/config';
import { natsAuthorizationBlock, passwordVariableOf } from '#lib/contracts';

export const NATS_USAGE = `nats config                             the nats-server \`authorization\` block: one user per process, each
                                        allowed only its subjects; passwords as $NATS_PASSWORD_<USER> variables`;

/**
 * The bus users and their permissions (libs/contracts bus-permissions.ts) as nats-server
 * configuration, for the manifests and docker-compose.yml: each password is a configuration
 * variable that nats-server reads from its environment, so the file holds no secret.
 */
export function natsCommand(
  config: Config,
  args: string[],
  print: (line: string) => void = console.log,
): void {
  if (args[0] !== 'config') throw new Error(`usage: ${NATS_USAGE}`);
  print(
    natsAuthorizationBlock(
      config.subjectPrefix,
      config.eventsStream,
      (user) => `$${passwordVariableOf(user)}`,
    ),
  );
}
