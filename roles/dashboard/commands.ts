// The control plane's conf file in its bundle folder and its console requests, as pure values.
export { DASHBOARD_CONF } from '../../ops/layout.ts';
export { clusterPath } from '../../ops/admin-api.ts';

export const clusterBody = (id: string): Record<string, unknown> => ({ id, name: id });
