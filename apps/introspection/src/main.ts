import { QueueGroups } from '#lib/contracts';
import { bootstrapService } from '#lib/service-runtime';
import { IntrospectionModule } from './introspection.module.js';

await bootstrapService(IntrospectionModule, { name: 'introspection', queue: QueueGroups.introspection });
