/* placeholder */
typedef int kmt_device_placeholder;
