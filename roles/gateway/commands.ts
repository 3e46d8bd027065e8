// The data plane's conf file in its bundle folder.
import { posix } from 'node:path';
import type { Vars } from '../../lib/types.ts';
import { gatewayDir } from '../../ops/layout.ts';

export const GATEWAY_CONF = 'gateway_conf/config.yaml';
export const gatewayConfFile = (vars: Vars): string => posix.join(gatewayDir(vars), GATEWAY_CONF);
