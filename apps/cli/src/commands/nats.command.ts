import type { Config } from '#lib/config';
import { natsAuthorizationBlock, passwordVariableOf } from '#lib/contracts';

/**
 * The bus users and their permissions (libs/contracts bus-permissions.ts) as nats-server
 * configuration, for the manifests and docker-compose.yml: each password is a configuration
 * variable that nats-server reads from its environment, so the file holds no secret.
 */
export function natsConfig(config: Config, print: (line: string) => void = console.log): void {
  print(
    natsAuthorizationBlock(
      config.subjectPrefix,
      config.eventsStream,
      (user) => `$${passwordVariableOf(user)}`,
    ),
  );
}
