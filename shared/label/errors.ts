/** Parts of a label an error can be about. */
export type LabelElement =
  | 'label'
  | 'qr'
  | 'setupPayload'
  | 'setupCode'
  | 'productName'
  | 'serial'
  | 'mac'
  | 'unit'
  | 'logo';

/**
 * A label that cannot be laid out or rendered as specified (text overflow, QR too small, bad
 * input). The message starts with the element name; it never contains the setup code.
 */
export class LabelLayoutError extends Error {
  constructor(
    readonly element: LabelElement,
    message: string,
    /** How far the element would stick out, in mm, when the problem is an overflow. */
    readonly overflowMm?: number,
  ) {
    super(`${element}: ${message}`);
    this.name = 'LabelLayoutError';
  }
}
