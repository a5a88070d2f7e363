// The RegistryError a promise rejects with; the test fails when it resolves or rejects with anything else.
import { expect } from "vitest";
import { RegistryError } from "../../src/registry/types.js";

export async function rejection(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    return error as RegistryError;
  }
  throw new Error("expected a rejection");
}
