/* placeholder */
typedef int kmt_policy_placeholder;
