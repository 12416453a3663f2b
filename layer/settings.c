/* placeholder */
typedef int kmt_settings_placeholder;
