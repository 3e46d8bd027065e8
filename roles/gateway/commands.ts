// The data plane's conf file in its bundle folder.
export const GATEWAY_CONF = 'gateway_conf/config.yaml';
