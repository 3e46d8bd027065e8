// Placeholder until the lab lands: the lab issue replaces this with "bring the lab up (idempotent)".
export default async function setup(): Promise<void> {}
