import { QueueGroups } from '#lib/contracts';
import { bootstrapService } from '#lib/service-runtime';
import { ClientRegistryModule } from './client-registry.module.js';

await bootstrapService(ClientRegistryModule, { name: 'client-registry', queue: QueueGroups.clientRegistry });
