import type { Decider } from '#lib/decider';
import type { GrantEvent } from './grant-events.js';
import { evolveGrant, type GrantState, initialGrantState } from './grant-state.js';
import { decideGrant, type GrantCommand } from './grant.js';

/** The grant aggregate (`grant-*` streams) as a decider. */
export const grantDecider: Decider<GrantCommand, GrantEvent, GrantState> = {
  decide: decideGrant,
  evolve: evolveGrant,
  initialState: initialGrantState,
};
