// The data plane's conf file in its bundle folder.
export { GATEWAY_CONF } from '../../ops/layout.ts';
