/**
 * Defaults of `veriml op deploy`, shared by the CLI and the library. A module of constants only:
 * the CLI's help prints them without loading ethers.
 */
export const DEFAULT_GAME_PARAMETERS = {
  claimBond: 10n ** 17n, // 0.1 ether
  challengeBond: 5n * 10n ** 16n, // 0.05 ether
  challengeWindow: 3_600n, // seconds
  moveTimeout: 600n, // seconds per move
} as const
