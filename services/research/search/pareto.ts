/** Pareto dominance over several objectives, every one to be maximised. */

/** True when a is at least as good as b everywhere and better somewhere. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if ((a[i] as number) < (b[i] as number)) return false;
    if ((a[i] as number) > (b[i] as number)) better = true;
  }
  return better;
}

/**
 * Non-dominated sorting: the front index of each point (0 = the Pareto front, 1 = the front once
 * the first is removed, ...). O(n^2 m), fine for the thousands of trials of a search.
 */
export function paretoRanks(points: readonly (readonly number[])[]): number[] {
  const n = points.length;
  const dominatedBy = new Int32Array(n);
  const dominatesList: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dominates(points[i] as number[], points[j] as number[])) {
        dominatesList[i]!.push(j);
        dominatedBy[j]!++;
      } else if (dominates(points[j] as number[], points[i] as number[])) {
        dominatesList[j]!.push(i);
        dominatedBy[i]!++;
      }
    }
  }
  const rank = new Array<number>(n).fill(-1);
  let front = [...Array(n).keys()].filter((i) => dominatedBy[i] === 0);
  let r = 0;
  while (front.length > 0) {
    const next: number[] = [];
    for (const i of front) {
      rank[i] = r;
      for (const j of dominatesList[i] as number[]) if (--dominatedBy[j]! === 0) next.push(j);
    }
    front = next;
    r++;
  }
  return rank;
}
