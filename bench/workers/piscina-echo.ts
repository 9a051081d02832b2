/** Piscina baseline task: the smallest useful task, one number in, one out. */
export default function echo(x: number): number {
  return x + 1;
}
