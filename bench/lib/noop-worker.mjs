// Bare Piscina task: does nothing, or loops over the pages it was given.
export default function noop(task) {
  if (Array.isArray(task)) {
    let n = 0;
    for (const page of task) n += page;
    return n;
  }
  return task;
}
