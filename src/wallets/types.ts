/**
 * Public shapes of the wallets module. Other modules code against these names; add fields, never rename.
 */

export type WalletNetwork = 'mainnet' | 'testnet' | 'stagenet' | 'unknown';

export interface WalletInfo {
  address: string;
  /** The most likely coin (ticker). */
  coin: string;
  /** Every coin the string is valid for, when more than one (e.g. BTC and BCH share legacy addresses). */
  coins?: string[];
  /** Format id from data/intel/wallet-formats.json. */
  format: string;
  network: WalletNetwork;
  /** true: checksum verified; false: malformed; null: the format carries no checksum (or is unverifiable). */
  valid: boolean | null;
  /** Why invalid (checksum mismatch, bad char, bad length). */
  reason?: string;
  /** Integrated CryptoNote addresses: the embedded 8-byte payment id, hex. */
  payment_id?: string;
}

export interface ExtractOptions {
  /** Stop after this many hits (default 1000). */
  maxHits?: number;
  /** Also return shaped candidates that failed validation (valid: false). Default false. */
  includeInvalid?: boolean;
  /** Scan at most this many bytes/chars of the input (default 64 MiB); bounds work on hostile input. */
  maxLength?: number;
}

export interface LoginParts {
  raw: string;
  wallet?: WalletInfo;
  /** Pool account name when the login is not a wallet ('Bigsky', 'tester'). */
  user?: string;
  worker?: string;
  difficulty?: number;
  email?: string;
  /** Payment id given beside the wallet ('WALLET.<16|64 hex>'), as old Monero pools accepted. */
  payment_id?: string;
}
