import { onBothEngines } from './engines.testkit.ts';
import { fleetStoreContract } from './fleet-contract.ts';

await onBothEngines(fleetStoreContract);
