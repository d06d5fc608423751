/** Wallet address formats, validation, extraction and stratum login parsing. */

export { extractWallets } from './extract.ts';
export {
  formatIndex,
  loadWalletFormats,
  parseWalletFormats,
  WALLET_FORMATS_SCHEMA,
  WALLET_FORMATS_URL,
  type WalletFormat,
  type WalletFormatsFile,
} from './formats.ts';
export { accountKey, parseLogin } from './login.ts';
export type { ExtractOptions, LoginParts, WalletInfo, WalletNetwork } from './types.ts';
export { validateWallet } from './validate.ts';
