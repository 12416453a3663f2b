/* placeholder */
typedef int kmt_log_placeholder;
