// Real sshd processes on loopback for the integration tests: the bench's (bench/sshd.ts), which owns them so that
// the bench does not lean on the tests.
export * from '../../bench/sshd.ts';
