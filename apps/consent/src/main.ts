import { QueueGroups } from '#lib/contracts';
import { bootstrapService } from '#lib/service-runtime';
import { ConsentModule } from './consent.module.js';

await bootstrapService(ConsentModule, { name: 'consent', queue: QueueGroups.consent });
