import { InMemoryEventStore } from './in-memory-event-store.js';
import { describeEventStoreContract } from './testing/index.js';

describeEventStoreContract('InMemoryEventStore', () => new InMemoryEventStore());
