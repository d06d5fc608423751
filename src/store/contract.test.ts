import { storeContract } from './contract.ts';
import { onBothEngines } from './engines.testkit.ts';

// compactAfter 3, foldAfter 2: commits fold and rollups are merged every few commits, so answers go through
// commit-time folds, read-time folds and merges.
await onBothEngines(storeContract, { compactAfter: 3, foldAfter: 2 });
