/* placeholder */
typedef int kmt_commands_placeholder;
