import { QueueGroups } from '#lib/contracts';
import { bootstrapService } from '#lib/service-runtime';
import { TokenModule } from './token.module.js';

await bootstrapService(TokenModule, { name: 'token', queue: QueueGroups.token });
