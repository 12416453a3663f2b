/* placeholder */
typedef int kmt_layer_placeholder;
