// A scanner that fails the way a scanner bug would (a ScanError) on files carrying TRIGGER, and is the real scanner
// otherwise: the seam (createApp's `scanner`, the CLI's `deps.scan`) through which tests reach the failure path.
import { ScanError, scanDockerfile, type Scanner } from "../../src/dockerfile/scan.js";

export const TRIGGER = "# this line breaks the scanner\n";

export const flakyScanner: Scanner = (content) => {
  if (Buffer.from(content).includes(TRIGGER)) throw new ScanError("internal error while reading instructions");
  return scanDockerfile(content);
};
