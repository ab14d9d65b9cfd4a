print("kvscope")
