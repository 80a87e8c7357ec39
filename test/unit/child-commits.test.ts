import { describe, expect, it } from 'vitest';
import { ChildCommits } from '../../runner/pool/child-commits.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A commit function that records each transaction and commits every child but `refuse`. */
function recorder(refuse: string[] = []) {
  const transactions: string[][] = [];
  const commit = (children: string[]) => {
    transactions.push([...children]);
    return children.map((child) => !refuse.includes(child));
  };
  return { transactions, commit };
}

describe('children committed together', () => {
  it('commits the children added within the delay in one transaction, once the delay is up', async () => {
    const { transactions, commit } = recorder();
    const commits = new ChildCommits(5, commit);
    const settled: [string, boolean][] = [];
    for (const child of ['a', 'b', 'c']) commits.add(child, (committed) => settled.push([child, committed]));
    expect(commits.size).toBe(3);
    expect(transactions).toEqual([]);
    await sleep(20);
    expect(transactions).toEqual([['a', 'b', 'c']]);
    expect(settled).toEqual([['a', true], ['b', true], ['c', true]]);
    expect(commits.size).toBe(0);
  });

  it('starts a new transaction for a child added after a commit', async () => {
    const { transactions, commit } = recorder();
    const commits = new ChildCommits(1, commit);
    commits.add('a', () => {});
    await sleep(10);
    commits.add('b', () => {});
    await sleep(10);
    expect(transactions).toEqual([['a'], ['b']]);
  });

  it('tells each child whether it is committed, and none when the commit throws', async () => {
    const { commit } = recorder(['dup']);
    const commits = new ChildCommits(1, commit);
    const settled: [string, boolean][] = [];
    for (const child of ['a', 'dup', 'c']) commits.add(child, (committed) => settled.push([child, committed]));
    commits.flush();
    expect(settled).toEqual([['a', true], ['dup', false], ['c', true]]);

    const failing = new ChildCommits<string>(1, () => {
      throw new Error('disk full');
    });
    const outcomes: boolean[] = [];
    failing.add('x', (committed) => outcomes.push(committed));
    failing.add('y', (committed) => outcomes.push(committed));
    failing.flush();
    expect(outcomes).toEqual([false, false]);
  });

  it('is due once its oldest child has waited the delay, for a caller that runs before the timer can', () => {
    const { transactions, commit } = recorder();
    const commits = new ChildCommits(50, commit);
    expect(commits.due()).toBe(false);
    commits.add('a', () => {});
    const added = performance.now();
    commits.add('b', () => {});
    expect(commits.due(added + 10)).toBe(false);
    expect(commits.due(added + 60)).toBe(true);
    commits.flush();
    expect(transactions).toEqual([['a', 'b']]);
    expect(commits.due(added + 60)).toBe(false);
  });
});
