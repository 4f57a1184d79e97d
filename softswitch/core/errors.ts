/** An extern array (counter, register, …) addressed past its size. */
export class IndexOutOfRangeError extends Error {
  override readonly name = "IndexOutOfRangeError";
  constructor(
    /** "counter", "register", … */
    readonly kind: string,
    readonly array: string,
    readonly index: number,
    readonly size: number,
  ) {
    super(`${kind} "${array}": index ${index} out of range (size ${size})`);
  }
}
