/* placeholder */ typedef int kmt_td_placeholder;
