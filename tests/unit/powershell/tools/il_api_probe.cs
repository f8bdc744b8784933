// Lists the .NET types and members a compiled assembly uses (from its signatures and the tokens of its IL),
// one per line: "T <type>" and "M <type> <member>" (property accessors as the property name, constructors
// as .ctor). Used by tests/unit/powershell/dotnet_api.py; compiled and run with Mono.
using System;
using System.Collections.Generic;
using System.Reflection;
using System.Reflection.Emit;

public static class IlProbe
{
    static Dictionary<short, OpCode> codes = new Dictionary<short, OpCode>();

    public static void Main(string[] args)
    {
        foreach (FieldInfo f in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            OpCode c = (OpCode)f.GetValue(null);
            codes[c.Value] = c;
        }
        Assembly asm = Assembly.LoadFrom(args[0]);
        SortedSet<string> seen = new SortedSet<string>();
        BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (Type t in asm.GetTypes())
        {
            if (t.BaseType != null) Note(seen, asm, t.BaseType, null);
            foreach (Type i in t.GetInterfaces()) Note(seen, asm, i, null);
            foreach (FieldInfo f in t.GetFields(all)) Note(seen, asm, f.FieldType, null);
            List<MethodBase> methods = new List<MethodBase>();
            methods.AddRange(t.GetMethods(all));
            methods.AddRange(t.GetConstructors(all));
            foreach (MethodBase m in methods)
            {
                foreach (ParameterInfo p in m.GetParameters()) Note(seen, asm, p.ParameterType, null);
                MethodInfo mi = m as MethodInfo;
                if (mi != null) Note(seen, asm, mi.ReturnType, null);
                MethodBody body = m.GetMethodBody();
                if (body == null) continue;
                foreach (LocalVariableInfo l in body.LocalVariables) Note(seen, asm, l.LocalType, null);
                foreach (ExceptionHandlingClause clause in body.ExceptionHandlingClauses)
                    if (clause.Flags == ExceptionHandlingClauseOptions.Clause) Note(seen, asm, clause.CatchType, null);
                byte[] il = body.GetILAsByteArray();
                int pos = 0;
                while (pos < il.Length)
                {
                    short value = il[pos++];
                    if (value == 0xFE) value = (short)(0xFE00 | il[pos++]);
                    OpCode op = codes[value];
                    int size = 0;
                    switch (op.OperandType)
                    {
                        case OperandType.InlineNone: size = 0; break;
                        case OperandType.ShortInlineBrTarget: case OperandType.ShortInlineI: case OperandType.ShortInlineVar: size = 1; break;
                        case OperandType.InlineVar: size = 2; break;
                        case OperandType.InlineI8: case OperandType.InlineR: size = 8; break;
                        case OperandType.InlineSwitch: int n = BitConverter.ToInt32(il, pos); size = 4 + 4 * n; break;
                        default: size = 4; break;
                    }
                    if (op.OperandType == OperandType.InlineMethod || op.OperandType == OperandType.InlineField ||
                        op.OperandType == OperandType.InlineType || op.OperandType == OperandType.InlineTok)
                    {
                        int token = BitConverter.ToInt32(il, pos);
                        try
                        {
                            MemberInfo member = m.Module.ResolveMember(token, t.IsGenericType ? t.GetGenericArguments() : null,
                                m.IsGenericMethod ? m.GetGenericArguments() : null);
                            Type tt = member as Type;
                            if (tt != null) Note(seen, asm, tt, null);
                            else Note(seen, asm, member.DeclaringType, member);
                        }
                        catch (Exception e) { Console.Error.WriteLine("unresolved token in " + t.FullName + "." + m.Name + ": " + e.Message); }
                    }
                    pos += size;
                }
            }
        }
        foreach (string s in seen) Console.WriteLine(s);
    }

    static string Name(Type t)
    {
        while (t.HasElementType) t = t.GetElementType();
        if (t.IsGenericType) t = t.GetGenericTypeDefinition();
        return t.FullName ?? t.Name;
    }

    static void Note(SortedSet<string> seen, Assembly own, Type type, MemberInfo member)
    {
        if (type == null) return;
        Type bare = type;
        while (bare.HasElementType) bare = bare.GetElementType();
        if (bare.IsGenericParameter) return;
        if (bare.IsGenericType) foreach (Type a in bare.GetGenericArguments()) Note(seen, own, a, null);
        if (bare.Assembly == own) return;
        string typeName = Name(bare);
        seen.Add("T " + typeName);
        if (member == null) return;
        string name = member.Name;
        MethodBase mb = member as MethodBase;
        if (mb != null && mb.IsSpecialName && (name.StartsWith("get_") || name.StartsWith("set_"))) name = name.Substring(4);
        seen.Add("M " + typeName + " " + name);
    }
}
