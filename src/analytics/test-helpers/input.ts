import type { AnalysisInput } from '../analyze.ts';

/** An analysis input with nothing in it (an empty store), with `over` laid on top. */
export function emptyInput(over: Partial<AnalysisInput> = {}): AnalysisInput {
  return {
    events: 0,
    hostCount: 0,
    coinRank: [],
    poolRank: [],
    portRank: [],
    familyRank: [],
    coinSeries: [],
    poolSeries: [],
    portSeries: [],
    familySeries: [],
    instances: [],
    campaigns: { wallet: [], dropper: [], account: [] },
    findings: [],
    ...over,
  };
}
